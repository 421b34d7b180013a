-- A resource server that trusts several tenants tells them apart by their issuer:
-- no two tenants may set the same one (unset issuers are the tenants' own URLs).
CREATE UNIQUE INDEX tenants_issuer ON tenants (issuer);
