"""Visit plans, check-ins (打卡入戶) and check-outs."""
