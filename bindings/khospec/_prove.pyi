from typing import Optional

def run(only: Optional[str] = None, era: Optional[str] = None, timeout: Optional[float] = None, k: int = ...,
        bmc: int = ..., jobs: int = 2, lemmas: bool = True, list: bool = False) -> str: ...
