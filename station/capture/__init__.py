"""Capture: devices and their drivers, triggers, and the intake that makes each page safe."""
