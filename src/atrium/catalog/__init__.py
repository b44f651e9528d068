"""The service catalogue (M1): what each business line offers, to whom, where and when."""
