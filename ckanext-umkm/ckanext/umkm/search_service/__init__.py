"""Embedded Solr-compatible search service for CKAN (runs as its own process).

Speaks the part of Solr's HTTP API that CKAN, ckanext-dcat and ckanext-harvest
use, over a tantivy index laid out from CKAN 2.11's schema.xml: select (Lucene
syntax, dismax/edismax, facets, sorting, paging, fl), update (JSON documents,
JSON/XML delete and commit), schema and admin/ping. Text is analysed in Python
(word delimiting, lower-casing, ASCII folding, Snowball Indonesian and English
stemming). Not supported: highlighting, spellcheck, grouping, pivot and range
facets, function queries, and Solr's admin API beyond core status.

Nothing here imports CKAN.
"""
