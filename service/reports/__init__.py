"""Reports: class report, region-year KPIs, trainee archive (JSON and Excel)."""
