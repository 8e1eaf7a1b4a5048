"""CKV_FD_6: no IAM grant uses a primitive role (owner, editor, viewer).

Primitive roles span every service of a project; a service account holding one turns
any compromise of that workload into a compromise of the project. The rule applies to
every member type, service accounts included.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from _values import PRIMITIVE_ROLES, first, strings


class NoPrimitiveRoles(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="IAM grants must not use primitive roles (roles/owner, roles/editor, roles/viewer)",
            id="CKV_FD_6",
            categories=(CheckCategories.IAM,),
            supported_resources=("google_*_iam_member", "google_*_iam_binding", "google_*_iam_policy"),
        )

    def scan_resource_conf(self, conf):
        self.evaluated_keys = ["role", "policy_data"]
        if first(conf, "role") in PRIMITIVE_ROLES:
            return CheckResult.FAILED
        # policy_data arrives as a JSON string or already parsed; a role is either a
        # whole string (parsed) or a quoted token inside the JSON text.
        for text in strings(conf.get("policy_data")):
            if text in PRIMITIVE_ROLES or any(f'"{role}"' in text for role in PRIMITIVE_ROLES):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = NoPrimitiveRoles()
