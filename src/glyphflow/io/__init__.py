"""Storage by URL, record schemas, sharded Parquet and stage output folders.

Sits on ``glyphflow.core`` only. Every stage reads and writes through these modules
(``storage``, ``records``, ``shards``, ``outputs``), so local folders, ``memory://``
and object stores behave the same. Import the submodule you need: importing this
package alone loads nothing heavy.
"""

__all__: list[str] = []
