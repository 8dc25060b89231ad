// The server's own rules for a report, checked on the device before the report is kept: the page hands over the
// rules of each write's body as the API's OpenAPI document states them (ui/forms.py body_rules: required fields,
// choices, limits, instants), so that a report is corrected now rather than refused when it reaches the server a
// day later. Rules that join several fields stay the server's: a report may still be refused for one of them.

/** Whether a value counts as not given (an empty field, a number the form could not read). */
function empty(value) {
  return value === undefined || value === null || value === "" || (typeof value === "number" && Number.isNaN(value))
    || (Array.isArray(value) && value.length === 0);
}

/** Each rule ``body`` breaks, as [field, message] in the page's language (``t``); ``latest`` is the latest instant a
 * report may be dated (the server's clock now plus the allowed skew), in milliseconds. */
export function broken(rules, body, { latest, t }) {
  const found = [];
  for (const [name, rule] of Object.entries(rules)) {
    const value = body[name];
    if (empty(value)) {
      if (rule.required) found.push([name, t("Fill this in.")]);
      continue;
    }
    if (rule.kind === "select" && rule.options && !rule.options.includes(String(value))) found.push([name, t("Choose one of the list.")]);
    if (rule.kind === "choices" && rule.options && value.some((v) => !rule.options.includes(v))) found.push([name, t("Choose from the list.")]);
    if (typeof value === "number") {
      if (rule.kind === "integer" && !Number.isInteger(value)) found.push([name, t("A whole number, please.")]);
      if (rule.minimum !== undefined && value < rule.minimum) found.push([name, t("At least %(n)s.", { n: rule.minimum })]);
      if (rule.maximum !== undefined && value > rule.maximum) found.push([name, t("At most %(n)s.", { n: rule.maximum })]);
    }
    if (typeof value === "string" && rule.max_length && value.length > rule.max_length) {
      found.push([name, t("At most %(n)s characters.", { n: rule.max_length })]);
    }
    if (rule.kind === "datetime") {
      const at = Date.parse(value);
      if (Number.isNaN(at)) found.push([name, t("Not a date and time.")]);
      else if (at > latest) found.push([name, t("This is in the future: check the date and the time.")]);
    }
  }
  return found;
}
