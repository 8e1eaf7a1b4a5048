"""CKV_FD_3: Cloud SQL instances have no public IP and have backups.

Private IP only means no public endpoint exists; backups plus point-in-time recovery
(for PostgreSQL) bound the data lost to an operator mistake to minutes.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from _values import block, first, is_false, is_true


class CloudSqlPrivateAndBackedUp(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Cloud SQL must disable the public IP (ipv4_enabled = false) and enable backups (with PITR on PostgreSQL)",
            id="CKV_FD_3",
            categories=(CheckCategories.NETWORKING, CheckCategories.BACKUP_AND_RECOVERY),
            supported_resources=("google_sql_database_instance",),
        )

    def scan_resource_conf(self, conf):
        self.evaluated_keys = [
            "settings/[0]/ip_configuration/[0]/ipv4_enabled",
            "settings/[0]/backup_configuration/[0]/enabled",
            "settings/[0]/backup_configuration/[0]/point_in_time_recovery_enabled",
        ]
        settings = block(conf, "settings") or {}
        # ipv4_enabled defaults to true: it must be turned off explicitly.
        ip = block(settings, "ip_configuration") or {}
        if not is_false(first(ip, "ipv4_enabled")):
            return CheckResult.FAILED

        backup = block(settings, "backup_configuration") or {}
        if not is_true(first(backup, "enabled")):
            return CheckResult.FAILED
        version = str(first(conf, "database_version", ""))
        if version.startswith("POSTGRES") and not is_true(first(backup, "point_in_time_recovery_enabled")):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = CloudSqlPrivateAndBackedUp()
