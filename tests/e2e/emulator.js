#!/usr/bin/env node
// Launcher for telegram-test-api 4.2.x with the fixes python-telegram-bot 22 needs.
// Usage: node emulator.js --port 9000 [--host 127.0.0.1]
// Prints "READY <port>" on stdout once it listens.
//
// Gaps of the package fixed here (never in the bot):
//  * getMe lacks is_bot                         -> full User object
//  * message `date` is in milliseconds          -> seconds, everywhere the bot reads a message
//  * callback queries lack chat_instance         -> added to every delivered update
//  * editMessageText / answerCallbackQuery / setWebhook return null -> Message / true / true
//  * sendPhoto, sendDocument, sendChatAction, setMyCommands missing  -> implemented (multipart parsed here)
//  * getUpdates ignores offset/timeout           -> real offset confirmation + long polling (waits up to
//                                                  `timeout` s; ends early only if the client goes away)
//  * no webhook secret header                    -> X-Telegram-Bot-Api-Secret-Token from setWebhook
//  * unreachable webhook crashes Node (unhandled rejection) -> awaited, reported to the client
// Extra test routes (POST, JSON body): /_tocns/messages {token, chatId, afterId, wait}, /_tocns/state {token}.
// Timing for benches: every user update answers `at_ms` (when the emulator took it; ms with a fraction) and every bot message
// carries `stored_ms` (when the bot's send reached the emulator), both on the emulator's clock;
// `/_tocns/messages` with `wait` (seconds) long-polls until the chat has a new bot message, and
// /_tocns/state counts getUpdates calls (a polling bot that spins shows up there).
'use strict';
const http = require('http');
const express = require('express');
const TelegramServer = require('telegram-test-api');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const port = Number(opt('port', '9000'));
const host = opt('host', '127.0.0.1');

process.on('unhandledRejection', (err) => console.error('unhandled rejection:', err && err.message));

const server = new TelegramServer({ port, host, storeTimeout: 3600 });
const extra = { commands: {}, answered: [], actions: 0, webhookFailures: 0, getUpdatesCalls: 0 };
const toSeconds = (d) => (typeof d === 'number' && d > 1e11 ? Math.floor(d / 1000) : d);

// Every update (getUpdates and webhook) goes through formatUpdate: fix dates and chat_instance.
const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = (update) => {
  const out = formatUpdate(update);
  if (out.message) out.message.date = toSeconds(out.message.date) || Math.floor(Date.now() / 1000);
  if (out.callback_query) {
    out.callback_query.chat_instance = String(out.callback_query.chat_instance || 'e2e');
    const m = out.callback_query.message;
    if (m) m.date = toSeconds(m.date) || Math.floor(Date.now() / 1000);
  }
  return out;
};

// The benches' clock: wall-clock milliseconds with a fraction (performance.now() is monotonic and
// sub-millisecond), so a 2 ms answer and a 3 ms answer are not both rounded into the same ratio.
const nowMs = () => performance.timeOrigin + performance.now();

// Webhook delivery with the secret header; failures are returned, never thrown into the void.
server.addUserUpdate = async function addUserUpdate(update) {
  const webhook = this.webhooks[update.botToken];
  const updateId = this.updateId;
  const atMs = nowMs();
  this.updateId++;
  if (!webhook) {
    this.storage.userMessages.push({ ...update, updateId });
    this.emit('NewUserUpdate');
    return { update_id: updateId, at_ms: atMs };
  }
  const headers = { 'content-type': 'application/json' };
  if (webhook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = webhook.secret_token;
  try {
    const resp = await fetch(webhook.url, {
      method: 'POST', headers, body: JSON.stringify(TelegramServer.formatUpdate({ ...update, updateId })),
    });
    if (!resp.ok) extra.webhookFailures++;
    return { update_id: updateId, at_ms: atMs, webhook_status: resp.status };
  } catch (err) {
    extra.webhookFailures++;
    return { update_id: updateId, at_ms: atMs, webhook_status: 0, webhook_error: String(err.message || err) };
  }
};

// Real getUpdates semantics: `offset` confirms earlier updates, `timeout` long-polls.
const pending = (token, offset) => server.storage.userMessages.filter(
  (u) => u.botToken === token && !u.isRead && u.updateId >= offset,
);
async function getUpdates(req, res) {
  extra.getUpdatesCalls++;
  const token = req.params.token;
  const body = { ...req.query, ...req.body };
  const offset = Number(body.offset || 0);
  const timeout = Math.min(Number(body.timeout || 0), 30);
  for (const u of server.storage.userMessages) {
    if (u.botToken === token && offset && u.updateId < offset) u.isRead = true;
  }
  let updates = pending(token, offset);
  if (!updates.length && timeout > 0) {
    await new Promise((resolve) => {
      const timer = setTimeout(done, timeout * 1000);
      function done() { clearTimeout(timer); server.off('NewUserUpdate', done); resolve(); }
      server.on('NewUserUpdate', done);
      res.on('close', done); // the client went away (req 'close' fires once the body is read)
    });
    updates = pending(token, offset);
  }
  const limit = Number(body.limit || 100);
  res.json({ ok: true, result: updates.slice(0, limit).map((u) => TelegramServer.formatUpdate(u)) });
}

// Minimal multipart/form-data parser (PTB uploads files as multipart).
function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  const fields = {};
  const files = {};
  if (!m) return { fields, files };
  const boundary = Buffer.from(`--${m[1] || m[2]}`);
  let pos = buf.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length + 2;
    const next = buf.indexOf(boundary, start);
    if (next < 0) break;
    const part = buf.subarray(start, next - 2);
    const sep = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, sep).toString();
    const data = part.subarray(sep + 4);
    const name = /name="([^"]*)"/i.exec(head);
    const filename = /filename="([^"]*)"/i.exec(head);
    if (name && filename) files[name[1]] = { filename: filename[1], size: data.length };
    else if (name) fields[name[1]] = data.toString();
    pos = next;
  }
  return { fields, files };
}
const rawBody = express.raw({ type: 'multipart/form-data', limit: '60mb' });
const bodyOf = (req) => (Buffer.isBuffer(req.body) ? parseMultipart(req.body, req.headers['content-type']) : { fields: req.body || {}, files: {} });

const asMessage = (stored) => ({
  ...stored.message,
  message_id: stored.messageId,
  date: toSeconds(stored.time),
  chat: { id: Number(stored.message.chat_id), first_name: 'Bot', type: 'private' },
  from: { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' },
});

function sendFile(kind) {
  return (req, res) => {
    const { fields, files } = bodyOf(req);
    const file = files[kind] || { filename: String(fields[kind] || 'file'), size: 0 };
    const message = { ...fields, [kind]: file, text: undefined };
    const result = server.addBotMessage(message, req.params.token);
    delete result.text;
    result.date = toSeconds(result.date);
    if (kind === 'photo') {
      result.photo = [{ file_id: `photo-${result.message_id}`, file_unique_id: `p${result.message_id}`, width: 800, height: 600, file_size: file.size }];
    } else {
      result.document = { file_id: `doc-${result.message_id}`, file_unique_id: `d${result.message_id}`, file_name: file.filename, file_size: file.size };
    }
    res.json({ ok: true, result });
  };
}

// Bot messages are stored with Date.now() in `time` (whole milliseconds — as coarse as the latencies
// a bench compares); stamp them with the same sub-millisecond clock as `at_ms` and tell long-polling
// /_tocns/messages callers.
const addBotMessage = server.addBotMessage.bind(server);
server.addBotMessage = (message, token) => {
  const atMs = nowMs();
  const result = addBotMessage(message, token);
  const stored = server.storage.botMessages[server.storage.botMessages.length - 1];
  if (stored) stored.stampMs = atMs;
  server.emit('NewBotMessage');
  return result;
};

const front = express();
front.use(express.json());
front.use(express.urlencoded({ extended: true }));
front.all('/bot:token/getMe', (_req, res) => res.json({ ok: true, result: {
  id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot',
  can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false,
} }));
front.all('/bot:token/getUpdates', (req, res) => { getUpdates(req, res).catch((e) => res.status(500).json({ ok: false, description: String(e) })); });
front.all('/bot:token/sendMessage', (req, res) => {
  const result = server.addBotMessage(req.body, req.params.token);
  result.date = toSeconds(result.date);
  result.from = { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' };
  res.json({ ok: true, result });
});
front.all('/bot:token/editMessageText', (req, res) => {
  server.editMessageText(req.body);
  const stored = server.storage.botMessages.find((u) => String(u.messageId) === String(req.body.message_id)
    && String(u.message.chat_id) === String(req.body.chat_id));
  if (!stored) return res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: message to edit not found' });
  stored.editCount = (stored.editCount || 0) + 1;
  if (!('reply_markup' in req.body)) delete stored.message.reply_markup;
  return res.json({ ok: true, result: { ...asMessage(stored), edit_date: Math.floor(Date.now() / 1000) } });
});
front.all('/bot:token/answerCallbackQuery', (req, res) => { extra.answered.push({ token: req.params.token, id: String(req.body.callback_query_id) }); res.json({ ok: true, result: true }); });
front.all('/bot:token/setWebhook', (req, res) => {
  const hook = req.body.url ? req.body : req.query;
  if (!hook.url) return res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: url is empty' });
  server.setWebhook(hook, req.params.token);
  return res.json({ ok: true, result: true, description: 'Webhook was set' });
});
front.all('/bot:token/getWebhookInfo', (req, res) => {
  const hook = server.webhooks[req.params.token];
  res.json({ ok: true, result: { url: hook ? hook.url : '', has_custom_certificate: false, pending_update_count: 0 } });
});
front.all('/bot:token/sendChatAction', (_req, res) => { extra.actions++; res.json({ ok: true, result: true }); });
front.all('/bot:token/setMyCommands', (req, res) => {
  const lang = req.body.language_code || '';
  extra.commands[lang] = typeof req.body.commands === 'string' ? JSON.parse(req.body.commands) : req.body.commands;
  res.json({ ok: true, result: true });
});
front.all('/bot:token/getMyCommands', (req, res) => res.json({ ok: true, result: extra.commands[req.body.language_code || ''] || [] }));
front.all('/bot:token/sendPhoto', rawBody, sendFile('photo'));
front.all('/bot:token/sendDocument', rawBody, sendFile('document'));

// Client routes awaited (the package fires and forgets them: an unreachable webhook crashed Node).
const clientRoute = (kind) => async (req, res) => {
  const base = server.getCommonFields(req.body.botToken);
  const update = kind === 'callback' ? { ...base, callbackQuery: req.body, callbackId: server.callbackId++ }
    : { ...base, message: req.body };
  if (kind === 'command') update.entities = req.body.entities;
  const result = await server.addUserUpdate(update);
  if (kind !== 'callback') server.messageId++;
  res.json({ ok: true, result });
};
front.post('/sendMessage', clientRoute('message'));
front.post('/sendCommand', clientRoute('command'));
front.post('/sendCallback', clientRoute('callback'));
const botMessagesFor = (token, chatId, afterId) => server.storage.botMessages
  .filter((u) => u.botToken === token && String(u.message.chat_id) === String(chatId) && u.messageId > afterId)
  .map((u) => ({ ...asMessage(u), edit_count: u.editCount || 0, stored_ms: u.stampMs ?? u.time }));
front.post('/_tocns/messages', async (req, res) => {
  const { token, chatId } = req.body;
  const afterId = Number(req.body.afterId || 0);
  const wait = Math.min(Number(req.body.wait || 0), 60);
  let result = botMessagesFor(token, chatId, afterId);
  if (!result.length && wait > 0) {
    await new Promise((resolve) => {
      const timer = setTimeout(done, wait * 1000);
      function check() { if (botMessagesFor(token, chatId, afterId).length) done(); }
      function done() { clearTimeout(timer); server.off('NewBotMessage', check); resolve(); }
      server.on('NewBotMessage', check);
      res.on('close', done); // the client went away (req 'close' fires once the body is read)
    });
    result = botMessagesFor(token, chatId, afterId);
  }
  res.json({ ok: true, result });
});
front.post('/_tocns/state', (req, res) => res.json({ ok: true, result: {
  commands: extra.commands, chat_actions: extra.actions,
  answered_callbacks: extra.answered.filter((a) => a.token === req.body.token).map((a) => a.id),
  webhook: server.webhooks[req.body.token] ? server.webhooks[req.body.token].url : null,
  webhook_failures: extra.webhookFailures,
  get_updates_calls: extra.getUpdatesCalls,
} }));
server.setMaxListeners(0); // one listener per waiting long poll
front.use(server.webServer); // everything else: the package's own routes

const httpServer = http.createServer(front);
httpServer.listen(port, host, () => { process.stdout.write(`READY ${port}\n`); });
const stop = () => httpServer.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
