"""Overhead and document cameras (UVC through OpenCV), and a simulated camera."""
