import { CLI_ACTOR, forgetDevices, listDevices, type DeviceView } from "../auth/index.ts";
import { findUserByEmail, normalizeEmail } from "../store/index.ts";
import { describeUserAgent } from "../user-agent.ts";
import { flag } from "./args.ts";
import { withRuntime, writeJson, type Command } from "./command.ts";
import { CliError } from "./errors.ts";
import { printable, shortTime, table } from "./output.ts";

function deviceTable(devices: readonly DeviceView[]): string {
  return table(
    ["ID", "LAST USED", "TRUSTED SINCE", "IP", "BROWSER"],
    devices.map((device) => [
      device.id, shortTime(device.lastUsedAt), shortTime(device.createdAt), printable(device.ip),
      printable(describeUserAgent(device.userAgent)),
    ]),
  );
}

const devices: Command = {
  name: "user devices",
  synopsis: "<email> [--json]",
  summary: "list the devices a user trusts (they sign in even while the account is locked for new devices)",
  details: ["--json  print {\"devices\": [...]} as the HTTP API does"],
  options: { json: { type: "boolean" } },
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const email = normalizeEmail(positionals[0] as string);
    const user = await findUserByEmail(runtime.auth.database.db, email);
    if (!user) throw new CliError(`no user with e-mail ${email}`);
    const list = await listDevices(runtime.auth, user.id, null);
    if (flag(values, "json")) writeJson(io, { devices: list });
    else io.stdout.write(list.length > 0 ? deviceTable(list) : `${user.email} trusts no device\n`);
    return 0;
  }),
};

const forget: Command = {
  name: "user forget-devices",
  synopsis: "<email>",
  summary: "forget every device a user trusts (each signs in as a new device again)",
  details: [],
  options: {},
  args: ["email"],
  run: (io, { positionals }) => withRuntime(io, async (runtime) => {
    const email = normalizeEmail(positionals[0] as string);
    const user = await findUserByEmail(runtime.auth.database.db, email);
    if (!user) throw new CliError(`no user with e-mail ${email}`);
    const count = await forgetDevices(runtime.auth, user, { by: "cli", client: CLI_ACTOR.client });
    io.stdout.write(`${user.email}: ${count} trusted device${count === 1 ? "" : "s"} forgotten\n`);
    return 0;
  }),
};

export const DEVICE_COMMANDS: readonly Command[] = [devices, forget];
