"""The built-in sandbox: providers for every channel kind that simulate the network
(acceptance, statuses, replies, template review) on the workspace's test clock."""
