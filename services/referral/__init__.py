"""The referral service: the front door. Records referrals from every route, gives each
patient a pseudonymous id, triages, and accepts (with a response deadline) or redirects."""
