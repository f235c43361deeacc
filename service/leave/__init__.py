"""Leave requests (请假): asked through the local SME department, reported to the class (报备)."""
