from reporting.application.rebuild import rebuild

__all__ = ["rebuild"]
