"""OGC API - Features for GIS clients (QGIS, ArcGIS, GDAL, OWSLib): the mission's layers, read in the caller's scope."""
