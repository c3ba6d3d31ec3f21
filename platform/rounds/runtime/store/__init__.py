"""The query store (read models): facts per day × person × site × org unit × definition,
rolled up from visits, submissions and issues; dashboards and OKR grades read only these."""
