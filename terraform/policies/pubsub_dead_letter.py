"""CKV_FD_1: every Pub/Sub subscription has a dead-letter policy.

Without one, a message that can never be processed is redelivered until retention
expires, blocking nothing but burning CPU and hiding data loss.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from _values import block, first


class PubsubSubscriptionDeadLetter(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Pub/Sub subscriptions must have a dead_letter_policy with a dead-letter topic",
            id="CKV_FD_1",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("google_pubsub_subscription",),
        )

    def scan_resource_conf(self, conf):
        self.evaluated_keys = ["dead_letter_policy/[0]/dead_letter_topic"]
        policy = block(conf, "dead_letter_policy")
        if policy and first(policy, "dead_letter_topic"):
            return CheckResult.PASSED
        return CheckResult.FAILED


check = PubsubSubscriptionDeadLetter()
