"""The RILO Asia/Pacific hub: members' feeds in, rollups, regional trend reports out."""
