"""Running the app for many people on one server: limits, per-session run books."""



