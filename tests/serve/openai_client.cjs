// Runs the official `openai` npm client against `accel serve` and prints what it got as one JSON
// object (checked by serve_openai_client_test.cpp).
// usage: OPENAI_MODULE=/path/to/node_modules/openai node openai_client.cjs BASE_URL CHAT_MODEL IDS_MODEL EMBED_MODEL PROMPT_WORDS MAX_TOKENS PROMPT_IDS
const mod = require(process.env.OPENAI_MODULE);
const OpenAI = mod.default || mod.OpenAI || mod;
const [baseURL, chatModel, idsModel, embedModel, promptWords, maxTokens, promptIds] = process.argv.slice(2);

(async () => {
  const client = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 });
  const out = {};
  out.models = (await client.models.list()).data.map((m) => m.id);
  const messages = [{ role: 'user', content: promptWords }];
  const chat = await client.chat.completions.create({ model: chatModel, messages, max_tokens: Number(maxTokens), temperature: 0 });
  out.chat = chat.choices[0].message.content;
  out.chat_usage = chat.usage;
  const stream = await client.chat.completions.create({
    model: chatModel, messages, max_tokens: Number(maxTokens), temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  out.chat_stream = '';
  for await (const chunk of stream) {
    if (chunk.choices.length && chunk.choices[0].delta.content) out.chat_stream += chunk.choices[0].delta.content;
    if (chunk.usage) out.chat_stream_usage = chunk.usage;
  }
  const completion = await client.completions.create({
    model: idsModel, prompt: promptIds.split(',').map(Number), max_tokens: Number(maxTokens), temperature: 0,
  });
  out.completion_ids = completion.choices[0].token_ids;
  // The client asks for base64 by default and decodes it to floats.
  const emb = await client.embeddings.create({ model: embedModel, input: ['Hello worlds', 'the cat sat'] });
  out.embeddings = emb.data.map((d) => d.embedding);
  try {
    await client.chat.completions.create({ model: 'no-such-model', messages });
    out.unknown_model = 'no error';
  } catch (e) {
    out.unknown_model = { status: e.status, code: e.code ?? (e.error && e.error.code) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((e) => {
  console.error('openai client failed:', e);
  process.exit(1);
});
