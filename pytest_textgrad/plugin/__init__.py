"""pytest integration (entry point ``textgrad``). Filled by the plugin issue."""
