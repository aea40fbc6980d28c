/**
 * Writes by a hostile caller over HTTP (the caller from `auth.resolve`: `Authorization: Bearer
 * <user id>`): a membership never makes its own creator a team's owner, and no answer differs for
 * a record the caller may not read and one that does not exist (ids, references). Each runs
 * through fetch, Express and Hono, on every database.
 */
import { beforeAll, expect, test } from "vitest";
import { ApiError, collection, createBackend, field, type DatabaseAdapter, type Principal, type RuleContext } from "cimiento";
import { describeEachServer, read, REQUEST_ID } from "./support.js";

const signedIn = ({ user }: RuleContext) => user !== null;
const ofMember = ({ user }: RuleContext) => (user ? { team: { memberships: { some: { user: user.id } } } } : false);
const ofOwner = ({ user }: RuleContext) => (user ? { team: { memberships: { some: { user: user.id, role: "owner" } } } } : false);

const users = collection("users", { fields: { name: field.text() }, access: { get: signedIn } });
const teams = collection("teams", { fields: { name: field.text() }, access: { get: signedIn } });
const memberships = collection("memberships", {
  fields: {
    team: field.belongsTo("teams", { onDelete: "cascade" }),
    user: field.belongsTo("users", { onDelete: "cascade" }),
    role: field.enum(["owner", "member"]).default("member"),
  },
  access: { list: ofMember, get: ofMember, create: ofOwner },
});
const projects = collection("projects", {
  fields: { name: field.text(), team: field.belongsTo("teams") },
  access: { list: ofMember, get: ofMember, create: ofMember },
});
const onTeamProject = ({ user }: RuleContext) =>
  user ? { project: { team: { memberships: { some: { user: user.id } } } } } : false;
const tasks = collection("tasks", {
  fields: { title: field.text(), project: field.belongsTo("projects") },
  access: { get: onTeamProject, create: onTeamProject, update: onTeamProject },
});

function writesBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  const backend = createBackend({
    database,
    collections: { users, teams, memberships, projects, tasks },
    auth: {
      async resolve(request): Promise<Principal | null> {
        const header = request.headers.get("authorization");
        if (header === null) return null;
        const user = await backend.system.data.users.get(header.replace(/^Bearer /, ""));
        if (user === null) throw new ApiError(401, "INVALID_TOKEN", "The token is not valid.");
        return { id: user.id, role: "member" };
      },
    },
  });
  return backend;
}

/** A problem body as the caller reads it, with what names the request (its id, the id it sent) left out. */
function same(body: unknown, id: string): unknown {
  const { requestId, detail, ...rest } = body as { requestId: string; detail: string };
  expect(requestId).toMatch(REQUEST_ID);
  return { ...rest, detail: detail.replaceAll(id, "<id>") };
}

describeEachServer("HTTP writes by a hostile caller", writesBackend, (served) => {
  let alice: { id: string }; // owns Blue
  let mallory: { id: string }; // owns Red
  let blue: string;
  let blueProject: string;
  let redProject: string;

  const as = (user: { id: string }): Record<string, string> => ({ authorization: `Bearer ${user.id}` });

  beforeAll(async () => {
    const { data } = served.backend.system;
    alice = await data.users.create({ name: "Alice" });
    mallory = await data.users.create({ name: "Mallory" });
    blue = (await data.teams.create({ name: "Blue" })).id;
    const red = (await data.teams.create({ name: "Red" })).id;
    await data.memberships.create({ team: blue, user: alice.id, role: "owner" });
    await data.memberships.create({ team: red, user: mallory.id, role: "owner" });
    blueProject = (await data.projects.create({ name: "Blue sky", team: blue })).id;
    redProject = (await data.projects.create({ name: "Red alert", team: red })).id;
  });

  test("a caller cannot make itself the owner of a team: its own membership is no proof of ownership (403)", async () => {
    const response = await served.json("POST", "/collections/memberships/records", { team: blue, user: mallory.id, role: "owner" }, as(mallory));
    expect(await read(response)).toMatchObject({ status: 403, type: "application/problem+json", body: { code: "FORBIDDEN" } });
    const owners = await served.backend.system.data.memberships.list({ where: { team: blue } });
    expect(owners.items.map((membership) => [membership.user, membership.role])).toEqual([[alice.id, "owner"]]);
  });

  test("a create naming an id answers 422, the same for an id a hidden record holds and for a fresh one", async () => {
    const post = async (id: string) =>
      read(await served.json("POST", "/collections/projects/records", { id, name: "Mine", team: blue }, as(alice)));
    const taken = await post(redProject);
    const fresh = await post("fresh-id");
    expect(taken).toMatchObject({
      status: 422,
      body: {
        code: "VALIDATION_FAILED",
        issues: [{ path: ["id"], code: "unrecognized_keys", message: 'Unknown field "id"' }],
      },
    });
    expect(same(taken.body, redProject)).toEqual(same(fresh.body, "fresh-id"));
    expect(await served.backend.system.data.projects.count()).toBe(2);
  });

  test("a reference to a record the caller may not read answers 422 REFERENCE_NOT_FOUND, as one to no record", async () => {
    const post = async (project: string) =>
      read(await served.json("POST", "/collections/tasks/records", { title: "Sneak", project }, as(mallory)));
    const hidden = await post(blueProject);
    const missing = await post("no-such-project");
    expect(hidden).toMatchObject({
      status: 422,
      type: "application/problem+json",
      body: {
        code: "REFERENCE_NOT_FOUND",
        detail: "tasks.project points to a record that does not exist.",
        issues: [{ path: ["project"], code: "reference_not_found", message: "No such record" }],
      },
    });
    expect(missing.status).toBe(422);
    expect(same(hidden.body, blueProject)).toEqual(same(missing.body, "no-such-project"));

    const task = await served.backend.system.data.tasks.create({ title: "Mine", project: redProject });
    const patch = async (project: string) =>
      read(await served.json("PATCH", `/collections/tasks/records/${task.id}`, { project }, as(mallory)));
    const moved = await patch(blueProject);
    expect(moved).toMatchObject({ status: 422, body: { code: "REFERENCE_NOT_FOUND" } });
    expect(same(moved.body, blueProject)).toEqual(same((await patch("no-such-project")).body, "no-such-project"));
    expect(await served.backend.system.data.tasks.count({ where: { project: blueProject } })).toBe(0);
    await served.backend.system.data.tasks.delete(task.id);
  });
});
