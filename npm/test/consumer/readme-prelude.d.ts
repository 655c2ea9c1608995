// What the README examples take as given: the application's own database, logger and queries.
import type { KeyRecordInput, ResourceOwner } from "keyscope";

declare global {
  const db: {
    apiKeys: { findOne(query: { hash: string }): Promise<KeyRecordInput | null> };
    members: { role(organizationId: string, userId: string): Promise<string | null> };
    resources: { owner(kind: string, id: string): Promise<ResourceOwner | null> };
  };
  const log: { error(fields: object, message: string): void };
  function listProjects(organizationId: string, projectFilter: string | null): Promise<unknown[]>;
}
