"""The field staff's pages: sign in, my day, check-in, the visit's forms, results."""
