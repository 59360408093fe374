"""The appliance: doctor, provisioning, storage guard, udev rules, systemd notify."""
