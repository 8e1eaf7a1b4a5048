"""CKV_FD_4: stateful resources keep deletion protection on.

A stray `terraform destroy` or a rename that forces replacement must not delete data.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from _values import block, first, is_false, is_true

# resource type -> (attribute, value that means "unprotected")
GUARDS = {
    "google_sql_database_instance": ("deletion_protection", False),
    "google_bigquery_table": ("deletion_protection", False),
    "google_alloydb_cluster": ("deletion_protection", False),
    "google_spanner_database": ("deletion_protection", False),
    "google_bigtable_instance": ("deletion_protection", False),
    "google_storage_bucket": ("force_destroy", True),
    "google_bigquery_dataset": ("delete_contents_on_destroy", True),
}


class StatefulDeletionProtection(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Stateful resources must not turn deletion protection off (or force_destroy / delete_contents_on_destroy on)",
            id="CKV_FD_4",
            categories=(CheckCategories.BACKUP_AND_RECOVERY,),
            supported_resources=tuple(GUARDS),
        )

    def scan_resource_conf(self, conf):
        attribute, unprotected = GUARDS[self.entity_type]
        self.evaluated_keys = [attribute]
        value = first(conf, attribute)
        if (is_false(value) if unprotected is False else is_true(value)):
            return CheckResult.FAILED

        # Cloud SQL also has an API-level flag; turning it off explicitly is a failure too.
        if self.entity_type == "google_sql_database_instance":
            settings = block(conf, "settings") or {}
            if is_false(first(settings, "deletion_protection_enabled")):
                self.evaluated_keys = ["settings/[0]/deletion_protection_enabled"]
                return CheckResult.FAILED
        return CheckResult.PASSED


check = StatefulDeletionProtection()
