"""The live picture: positions in from every device, judged by the alert rules as they are stored,
and out again to TAK clients. Above tracking, patrols and alerts, which it joins."""
