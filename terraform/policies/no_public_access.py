"""CKV_FD_2: nothing is granted to allUsers or allAuthenticatedUsers.

Covers every IAM member, binding and policy resource of the google provider, and Cloud Run v2
jobs, which would become public if invoker IAM were disabled. One exception is judged elsewhere:
roles/run.invoker for allUsers on a Cloud Run v2 service, the way a service behind the edge load
balancer is opened, is allowed by CKV_FD_7 (public_invoker_behind_lb.yaml) only when that
service's ingress is INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER; a Cloud Run v2 service's own
invoker_iam_disabled is judged there too. allAuthenticatedUsers stays refused everywhere.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from _values import PUBLIC_PRINCIPALS, first, is_true, strings

# Grants CKV_FD_7 judges against the ingress of the service they are made on.
RUN_SERVICE_GRANTS = ("google_cloud_run_v2_service_iam_member", "google_cloud_run_v2_service_iam_binding")


class NoPublicAccess(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="No IAM grant or Cloud Run job may be open to allUsers or allAuthenticatedUsers (Cloud Run services: CKV_FD_7)",
            id="CKV_FD_2",
            categories=(CheckCategories.IAM,),
            supported_resources=(
                "google_*_iam_member",
                "google_*_iam_binding",
                "google_*_iam_policy",
                "google_cloud_run_v2_job",
            ),
        )

    def scan_resource_conf(self, conf):
        if self.entity_type == "google_cloud_run_v2_job":
            self.evaluated_keys = ["invoker_iam_disabled"]
            if is_true(first(conf, "invoker_iam_disabled")):
                return CheckResult.FAILED
            return CheckResult.PASSED

        self.evaluated_keys = ["member", "members", "policy_data"]
        granted = strings(conf.get("member")) + strings(conf.get("members")) + strings(conf.get("policy_data"))
        public = {p for g in granted for p in PUBLIC_PRINCIPALS if p in g}
        if not public:
            return CheckResult.PASSED
        if self.entity_type in RUN_SERVICE_GRANTS and public == {"allUsers"} and first(conf, "role") == "roles/run.invoker":
            return CheckResult.PASSED  # CKV_FD_7 decides from the service's ingress
        return CheckResult.FAILED


check = NoPublicAccess()
