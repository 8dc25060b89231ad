"""The humanitarian cell: recovery, custody, identification and handover of the remains of the dead."""
