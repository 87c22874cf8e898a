DROP TABLE store_versions;
