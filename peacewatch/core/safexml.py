"""The gate every uploaded XML file (KML, GPX) passes before its own library reads it."""

from __future__ import annotations

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from peacewatch.core.problems import Invalid


def refuse_hostile_xml(data: bytes, what: str) -> None:
    """Refuse DTDs and entities (billion laughs, external entities) and malformed XML, naming the file."""
    try:
        SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise Invalid("refused {what}: {refusal} (DTDs and entities are not accepted)", field="file", what=what, refusal=type(exc).__name__) from None
    except SafeET.ParseError as exc:
        raise Invalid("not well-formed XML: {exc}", field="file", exc=exc) from None
