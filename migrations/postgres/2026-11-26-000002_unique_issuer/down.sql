DROP INDEX tenants_issuer;
