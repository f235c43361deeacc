"""Enterprise registry (企业名录): imported lists of recognised enterprises and their titles."""
