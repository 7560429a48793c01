"""The browser tests' fixtures live in tests/desk_browser.py so other suites can load them."""

pytest_plugins = ["tests.desk_browser"]
