"""The pages of those outside the company: the retailer's own shop (its visits, scores,
problems, complaints and suggestions, surveys and notices), the consumer's page (notices,
open surveys, complaints) and the industry user's figures (aggregated, never below the
minimum group size)."""
