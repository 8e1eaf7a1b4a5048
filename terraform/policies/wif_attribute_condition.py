"""CKV_FD_5: every workload identity pool provider has an attribute condition.

Without one, any identity the issuer vouches for (for GitHub: every repository of
every user) can exchange its token for our service accounts' credentials.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from _values import first


class WifAttributeCondition(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Workload identity pool providers must set a non-empty attribute_condition",
            id="CKV_FD_5",
            categories=(CheckCategories.IAM,),
            supported_resources=("google_iam_workload_identity_pool_provider",),
        )

    def scan_resource_conf(self, conf):
        self.evaluated_keys = ["attribute_condition"]
        condition = first(conf, "attribute_condition")
        if isinstance(condition, str) and condition.strip():
            return CheckResult.PASSED
        return CheckResult.FAILED


check = WifAttributeCondition()
