"""Export — only on the user's request: HubSpot and Salesforce (dry-run plan, then a confirmed
run, idempotent through ``store.exports``), and plain files (Markdown, CSV, JSON, vCard,
iCalendar, CRM import CSVs, the full archive). Nothing in the processing path imports this
package; the CRM client libraries load only inside the export commands."""
