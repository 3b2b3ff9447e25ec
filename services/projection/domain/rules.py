"""The projection's rules (it is a read model: few refuse anything), named as every service names them."""

FEED_USER_ONLY_SELF = "calendar_feed.user_only_self"  # a user's feed is for that user (or a contract manager)
FEED_CONTRACT_ID = "calendar_feed.contract_id_invalid"  # a contract feed's value is a contract id
