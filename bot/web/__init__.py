"""The web workbench for community staff: the board and an order's page, server-rendered."""
