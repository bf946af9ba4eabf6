"""DPG Hub (디지털플랫폼정부 허브): a hub where agencies and companies publish data and APIs."""

__version__ = "0.1.0"
