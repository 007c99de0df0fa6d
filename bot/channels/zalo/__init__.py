"""Zalo adapters: the Bot Platform (bot.py) and Official Accounts (oa.py, oa_tokens.py), sharing common.py."""
