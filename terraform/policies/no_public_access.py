"""CKV_FD_2: nothing is granted to allUsers or allAuthenticatedUsers.

Covers every IAM member, binding and policy resource of the google provider, and
Cloud Run v2 services and jobs, which become public when invoker IAM is disabled.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from _values import PUBLIC_PRINCIPALS, first, is_true, strings


class NoPublicAccess(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="No IAM grant or Cloud Run service may be open to allUsers or allAuthenticatedUsers",
            id="CKV_FD_2",
            categories=(CheckCategories.IAM,),
            supported_resources=(
                "google_*_iam_member",
                "google_*_iam_binding",
                "google_*_iam_policy",
                "google_cloud_run_v2_service",
                "google_cloud_run_v2_job",
            ),
        )

    def scan_resource_conf(self, conf):
        if self.entity_type in ("google_cloud_run_v2_service", "google_cloud_run_v2_job"):
            self.evaluated_keys = ["invoker_iam_disabled"]
            if is_true(first(conf, "invoker_iam_disabled")):
                return CheckResult.FAILED
            return CheckResult.PASSED

        self.evaluated_keys = ["member", "members", "policy_data"]
        granted = strings(conf.get("member")) + strings(conf.get("members")) + strings(conf.get("policy_data"))
        if any(p in g for g in granted for p in PUBLIC_PRINCIPALS):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = NoPublicAccess()
