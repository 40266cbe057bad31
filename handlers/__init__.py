"""What a message means: role-aware routing and each role's conversations.

Transport-neutral: takes an Inbound, returns Replies; never imports telegram or wechatpy.
"""
