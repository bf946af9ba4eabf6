"""The service gateway: apps, keys, subscriptions, the proxy, limits and evidence."""
