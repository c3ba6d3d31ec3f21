"""Survey campaigns (问卷调查) and their responses: retailers, consumers and industry users.

``models``: a campaign (a survey version, its audience, targeting, period and target number
of responses) and its responses (signed-in or anonymous, each scored by the survey's model);
``responses``: one response validated, scored and stored exactly once.
"""
