--
-- Values used after SPI_finish(): gtm_sign_in for a new organization once
-- read the new tenant's id from SPI memory that SPI_finish() had freed.
-- It showed (signal 11, every session killed) once the slug search had put
-- enough rows in SPI memory for the id to land in a block that free()
-- returned to the system: here 10,000 slugs that share the base "test",
-- then a new session's first sign-in under the name "Test" (issue 17).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;

INSERT INTO tenants (clerk_org_id, name, slug)
SELECT 'org_spimem' || i, 'Test Org ' || i, 'test-org-' || i FROM generate_series(1, 10000) i;

-- a new session: nothing freed yet has raised glibc's mmap threshold
\c
SELECT tenant_id, role, tenant_created, member_created
FROM gtm_sign_in('org_spimemnew', 'user_first', 'Test') \gset
SELECT id = :'tenant_id' AS returned_id_is_the_new_tenant, slug, name,
       :'role' AS role, :'tenant_created' AS tenant_created, :'member_created' AS member_created
FROM tenants WHERE clerk_org_id = 'org_spimemnew';

-- the same for a second organization of that name, and for a new member of
-- an existing tenant (the other path that reads the tenant id)
\c
SELECT tenant_id, role, tenant_created, member_created
FROM gtm_sign_in('org_spimemnew2', 'user_first', 'Test') \gset
SELECT id = :'tenant_id' AS returned_id_is_the_new_tenant, slug,
       :'role' AS role, :'tenant_created' AS tenant_created, :'member_created' AS member_created
FROM tenants WHERE clerk_org_id = 'org_spimemnew2';
\c
SELECT tenant_id, role, tenant_created, member_created
FROM gtm_sign_in('org_spimemnew', 'user_second', 'Test', NULL, 'org:manager') \gset
SELECT id = :'tenant_id' AS returned_id_is_the_tenant,
       :'role' AS role, :'tenant_created' AS tenant_created, :'member_created' AS member_created
FROM tenants WHERE clerk_org_id = 'org_spimemnew';

-- gtm_provision_tenant copies its row out of SPI memory before SPI_finish()
\c
SELECT slug, name FROM gtm_provision_tenant('org_spimemnew3', 'Test');

SELECT t.slug, m.clerk_user_id, m.role
FROM tenants t JOIN tenant_members m ON m.tenant_id = t.id
WHERE t.clerk_org_id LIKE 'org_spimemnew%' ORDER BY t.slug, m.clerk_user_id;

DELETE FROM tenants WHERE clerk_org_id LIKE 'org_spimem%';
