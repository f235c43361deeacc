"""Classes (班次/期) with their timetable (sessions 课程) and regional quotas (名额)."""
