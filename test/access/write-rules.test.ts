/**
 * The rules of writes, against a caller that tries what it may not: a create or update rule is
 * decided on the proposed record against the records as they are before the write (a membership
 * never makes its own creator a team's owner), and no write answers differently for a record the
 * caller may not read than for one that does not exist (references, ids, upsert).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { collection, field, type ApiError, type Backend, type Principal, type RuleContext } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { openBackend } from "../setup/backend.js";
import { failure } from "../setup/failure.js";

const signedIn = ({ user }: RuleContext) => user !== null;
const ofMember = ({ user }: RuleContext) => (user ? { team: { memberships: { some: { user: user.id } } } } : false);
const ofOwner = ({ user }: RuleContext) => (user ? { team: { memberships: { some: { user: user.id, role: "owner" } } } } : false);

// Signed-in callers may get the users who are listed, and themselves.
const users = collection("users", {
  fields: { name: field.text(), listed: field.boolean().default(true) },
  access: {
    list: signedIn,
    get: ({ user }) => (user ? { or: [{ listed: true }, { id: user.id }] } : false),
  },
});

// Any signed-in caller may look a team up by id; only its members list it.
const teams = collection("teams", {
  fields: { name: field.text() },
  access: {
    list: ({ user }) => (user ? { memberships: { some: { user: user.id } } } : false),
    get: signedIn,
    create: signedIn,
  },
});

const memberships = collection("memberships", {
  fields: {
    team: field.belongsTo("teams", { onDelete: "cascade" }),
    user: field.belongsTo("users", { onDelete: "cascade" }),
    role: field.enum(["owner", "member"]).default("member"),
    invite: field.text().unique().optional(),
  },
  access: { list: ofMember, get: ofMember, create: ofOwner, update: ofOwner, delete: ofOwner },
});

// Projects are seen by their team's members only; `code` is unique across every team.
const projects = collection("projects", {
  fields: { name: field.text(), code: field.text().unique(), team: field.belongsTo("teams") },
  access: { list: ofMember, get: ofMember, create: ofMember, update: ofMember },
});

/** Who reviews tasks: a user callers may not read, set by trusted code. */
const reviewer = { id: "" };
const onTeamProject = ({ user }: RuleContext) =>
  user ? { project: { team: { memberships: { some: { user: user.id } } } } } : false;
const tasks = collection("tasks", {
  fields: {
    title: field.text(),
    project: field.belongsTo("projects"),
    queue: field.text().optional(),
    ref: field.text().unique().optional(),
    reviewer: field.belongsTo("users").optional().readOnly(),
  },
  access: { list: onTeamProject, get: onTeamProject, create: onTeamProject, update: onTeamProject },
  hooks: {
    // A queue name stands for a project: the rule must see the project the hook chose.
    beforeCreate: ({ data }) => ({
      ...data,
      project: data.queue === undefined || data.queue === null ? data.project : queues[data.queue]!,
      reviewer: reviewer.id,
    }),
  },
});
const queues: Record<string, string> = {};

// Clients that work offline choose the ids of their notes.
const notes = collection("notes", {
  fields: { body: field.text() },
  clientIds: true,
  access: { list: ({ user }) => user?.role === "admin", get: ({ user }) => user?.role === "admin", create: signedIn },
});

const collections = { users, teams, memberships, projects, tasks, notes };

/** What a caller is told: the whole error, but for the id it named. */
function told(error: ApiError, id: string): unknown {
  return { status: error.status, code: error.code, message: error.message.replaceAll(id, "<id>"), details: error.details };
}

describeEachDatabase("write rules against a hostile caller", (db) => {
  let backend: Backend<typeof collections, "sqlite" | "postgres">;
  let close: () => Promise<void>;
  let alice: Principal; // owns team Blue
  let mallory: Principal; // owns team Red, no member of Blue
  let blue: string;
  let red: string;
  let blueProject: string;
  let redProject: string;
  let owned: string; // Mallory's owner membership of Red
  const as = (principal: Principal) => backend.as(principal).data;

  beforeAll(async () => {
    ({ backend, close } = await openBackend(db, collections));
    const { data } = backend.system;
    alice = { id: (await data.users.create({ name: "Alice" })).id, role: "member" };
    mallory = { id: (await data.users.create({ name: "Mallory" })).id, role: "member" };
    reviewer.id = (await data.users.create({ name: "Rita", listed: false })).id;
    blue = (await data.teams.create({ name: "Blue" })).id;
    red = (await data.teams.create({ name: "Red" })).id;
    await data.memberships.create({ team: blue, user: alice.id, role: "owner" });
    owned = (await data.memberships.create({ team: red, user: mallory.id, role: "owner" })).id;
    blueProject = (await data.projects.create({ name: "Blue sky", code: "BLUE", team: blue })).id;
    redProject = (await data.projects.create({ name: "Red alert", code: "RED", team: red })).id;
    queues["blue"] = blueProject;
    queues["red"] = redProject;
  });
  afterAll(async () => {
    await close?.();
  });

  const blueMemberships = async () =>
    (await backend.system.data.memberships.list({ where: { team: blue }, orderBy: { createdAt: "asc" } })).items.map(
      (membership) => [membership.user, membership.role],
    );

  describe("a create or update rule sees the records before the write", () => {
    test("create: a membership that would make its creator an owner does not satisfy 'the caller owns the team'", async () => {
      const error = await failure(as(mallory).memberships.create({ team: blue, user: mallory.id, role: "owner" }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await blueMemberships()).toEqual([[alice.id, "owner"]]);
    });

    test("createMany: no record sees the others, nor itself", async () => {
      const error = await failure(
        as(mallory).memberships.createMany([
          { team: blue, user: mallory.id, role: "owner" },
          { team: blue, user: alice.id, role: "member" },
        ]),
      );
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await blueMemberships()).toEqual([[alice.id, "owner"]]);
    });

    test("upsert: its create is decided the same way", async () => {
      const error = await failure(
        as(mallory).memberships.upsert({ where: { invite: "blue-1" }, create: { team: blue, user: mallory.id, role: "owner" }, update: {} }),
      );
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await blueMemberships()).toEqual([[alice.id, "owner"]]);
    });

    test("an owner adds a member, who may not then promote itself", async () => {
      const added = await as(alice).memberships.create({ team: blue, user: mallory.id });
      expect(added).toMatchObject({ team: blue, user: mallory.id, role: "member" });
      const error = await failure(as(mallory).memberships.update(added.id, { role: "owner" }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await blueMemberships()).toEqual([
        [alice.id, "owner"],
        [mallory.id, "member"],
      ]);
      await backend.system.data.memberships.delete(added.id);
    });

    test("update: an owner of one team cannot move its owner membership into another", async () => {
      const error = await failure(as(mallory).memberships.update(owned, { team: blue }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await backend.system.data.memberships.get(owned)).toMatchObject({ team: red, role: "owner" });
      expect(await blueMemberships()).toEqual([[alice.id, "owner"]]);
    });

    test("updateMany: every record is decided before any is changed; the whole write is refused", async () => {
      const error = await failure(as(mallory).memberships.updateMany({ where: { team: red }, data: { team: blue } }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await backend.system.data.memberships.get(owned)).toMatchObject({ team: red, role: "owner" });
      // A change the rule allows goes through.
      expect(await as(mallory).memberships.updateMany({ where: { team: red }, data: { invite: "red-1" } })).toEqual({ count: 1 });
      await backend.system.data.memberships.update(owned, { invite: null });
    });

    test("the rule is decided on the record as the hook leaves it", async () => {
      // Mallory names her own team's project, and a queue that the hook turns into Blue's.
      const error = await failure(as(mallory).tasks.create({ title: "sneaky", project: redProject, queue: "blue" }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await as(mallory).tasks.create({ title: "fine", project: redProject })).toMatchObject({ project: redProject });
      expect(await backend.system.data.tasks.count({ where: { project: blueProject } })).toBe(0);
    });
  });

  describe("a reference to a record the caller may not read answers as one to no record", () => {
    beforeEach(async () => {
      await backend.system.data.tasks.deleteMany({ where: {} });
    });

    test("create: REFERENCE_NOT_FOUND, the same error as for an id that names nothing", async () => {
      const hidden = await failure(as(mallory).tasks.create({ title: "x", project: blueProject }));
      const missing = await failure(as(mallory).tasks.create({ title: "x", project: "no-such-project" }));
      expect(told(hidden, blueProject)).toEqual(told(missing, "no-such-project"));
      expect(hidden).toMatchObject({
        status: 422,
        code: "REFERENCE_NOT_FOUND",
        message: "tasks.project points to a record that does not exist.",
        details: { issues: [{ path: ["project"], code: "reference_not_found", message: "No such record" }] },
      });
      expect(await backend.system.data.tasks.count()).toBe(0);
    });

    test("update, updateMany and upsert: the same", async () => {
      const task = await as(mallory).tasks.create({ title: "mine", project: redProject });
      for (const project of [blueProject, "no-such-project"]) {
        const updated = await failure(as(mallory).tasks.update(task.id, { project }));
        expect(told(updated, project)).toEqual({
          status: 422,
          code: "REFERENCE_NOT_FOUND",
          message: "tasks.project points to a record that does not exist.",
          details: { issues: [{ path: ["project"], code: "reference_not_found", message: "No such record" }] },
        });
        const many = await failure(as(mallory).tasks.updateMany({ where: {}, data: { project } }));
        expect(told(many, project)).toEqual(told(updated, project));
        const created = await failure(as(mallory).tasks.upsert({ where: { ref: "T-1" }, create: { title: "t", project }, update: {} }));
        expect(told(created, project)).toEqual(told(updated, project));
        const changed = await failure(as(mallory).tasks.upsert({ where: { id: task.id }, create: { title: "t", project }, update: { project } }));
        expect(told(changed, project)).toEqual(told(updated, project));
      }
      expect(await backend.system.data.tasks.get(task.id)).toMatchObject({ project: redProject });
      expect(await backend.system.data.tasks.count()).toBe(1);
    });

    test("createMany: each record's reference is named by its index", async () => {
      const error = await failure(
        as(mallory).tasks.createMany([
          { title: "a", project: redProject },
          { title: "b", project: blueProject },
          { title: "c", project: "no-such-project" },
        ]),
      );
      expect(error).toMatchObject({
        status: 422,
        code: "REFERENCE_NOT_FOUND",
        message: "tasks.project points to a record that does not exist.",
        details: {
          issues: [
            { path: [1, "project"], code: "reference_not_found", message: "No such record" },
            { path: [2, "project"], code: "reference_not_found", message: "No such record" },
          ],
        },
      });
      expect(await backend.system.data.tasks.count()).toBe(0);
    });

    test("a record the caller may read, in a write its rule refuses, is FORBIDDEN", async () => {
      // Mallory may get Blue (any signed-in caller may), but owns nothing there.
      const error = await failure(as(mallory).memberships.create({ team: blue, user: mallory.id }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      // Every reference is checked: Rita is no user Alice may read.
      const rita = await failure(as(alice).memberships.create({ team: blue, user: reviewer.id }));
      expect(told(rita, reviewer.id)).toEqual(told(await failure(as(alice).memberships.create({ team: blue, user: "nobody" })), "nobody"));
      expect(rita.details).toEqual({ issues: [{ path: ["user"], code: "reference_not_found", message: "No such record" }] });
    });

    test("references written by hooks and by the system scope are not the caller's: they are not checked", async () => {
      // The hook sets a reviewer whom Mallory may not get; the system scope names any project.
      const task = await as(mallory).tasks.create({ title: "reviewed", project: redProject });
      expect((await backend.system.data.tasks.get(task.id))!.reviewer).toBe(reviewer.id);
      expect(await backend.system.data.tasks.create({ title: "any", project: blueProject })).toMatchObject({ project: blueProject });
    });
  });

  describe("ids tell nothing", () => {
    test("a caller may not choose the id of a new record: an unknown field, whether the id is taken or not", async () => {
      const unknown = [{ path: ["id"], code: "unrecognized_keys", message: 'Unknown field "id"' }];
      for (const id of [blueProject, "fresh-id"]) {
        const error = await failure(as(mallory).projects.create({ id, name: "x", code: `X-${id}`, team: red } as never));
        expect(error).toMatchObject({ status: 422, code: "VALIDATION_FAILED", details: { issues: unknown } });
        const many = await failure(as(mallory).projects.createMany([{ name: "y", code: "Y", team: red }, { id, name: "x", code: "X", team: red }] as never));
        expect(many.details).toEqual({ issues: [{ ...unknown[0], path: [1, "id"] }] });
        const upserted = await failure(as(mallory).projects.upsert({ where: { id }, create: { name: "x", code: "X", team: red }, update: {} }));
        expect(upserted).toMatchObject({ status: 422, code: "VALIDATION_FAILED", details: { issues: unknown } });
      }
      expect(await backend.system.data.projects.count()).toBe(2);
      expect(await backend.system.data.projects.get("fresh-id")).toBeNull();
    });

    test("the system scope chooses ids", async () => {
      const made = await backend.system.data.projects.create({ id: "chosen", name: "c", code: "C", team: red });
      expect(made.id).toBe("chosen");
      await backend.system.data.projects.delete("chosen");
    });

    test("a collection with clientIds lets callers choose ids, and a taken one is a UNIQUE_VIOLATION", async () => {
      const note = await as(mallory).notes.create({ id: "offline-1", body: "written offline" });
      expect(note.id).toBe("offline-1");
      const taken = await failure(as(alice).notes.create({ id: "offline-1", body: "mine" }));
      expect(taken).toMatchObject({ status: 409, code: "UNIQUE_VIOLATION", details: { fields: ["id"] } });
      const [made] = await as(alice).notes.createMany([{ id: "offline-2", body: "two" }]);
      expect(made!.id).toBe("offline-2");
    });
  });

  describe("upsert finds only what the caller may read", () => {
    test("a unique value held by a record the caller may not read answers as a create of it would; the record is untouched", async () => {
      const upserted = await failure(
        as(mallory).projects.upsert({
          where: { code: "BLUE" },
          create: { name: "mine", code: "BLUE", team: red },
          update: { name: "taken over" },
        }),
      );
      const created = await failure(as(mallory).projects.create({ name: "mine", code: "BLUE", team: red }));
      expect(upserted).toMatchObject({ status: 409, code: "UNIQUE_VIOLATION", details: { fields: ["code"] } });
      expect(told(upserted, blueProject)).toEqual(told(created, blueProject));
      expect(await backend.system.data.projects.get(blueProject)).toMatchObject({ name: "Blue sky", team: blue });
    });

    test("one the caller may read is updated; a value no record holds is created", async () => {
      const updated = await as(mallory).projects.upsert({
        where: { code: "RED" },
        create: { name: "x", code: "RED", team: red },
        update: { name: "Red!" },
      });
      expect(updated).toMatchObject({ id: redProject, name: "Red!" });
      const created = await as(mallory).projects.upsert({
        where: { code: "RED-2" },
        create: { name: "Red 2", code: "RED-2", team: red },
        update: {},
      });
      expect(created).toMatchObject({ code: "RED-2", team: red });
      await backend.system.data.projects.delete(created.id);
      await backend.system.data.projects.update(redProject, { name: "Red alert" });
    });
  });
});
