DROP INDEX sessions_tenant_sid;
