// API Gateway's request pipeline for a non-proxy integration, as far as this repository's
// templates use it, with the engine API Gateway runs: Apache Velocity 1.7 (Debian's `velocity`),
// and JSON parsed by Jackson (whose error messages API Gateway's own parse errors show).
//
//   java -cp <velocity, commons-collections3, commons-lang, jackson jars> ApiGatewayMapping.java < cases.json
//
// Input: {"cases": [{"name", "template", "model" (JSON schema text or null), "body",
//                    "headers": {name: value}, "query": {}, "path": {}, "context": {...}}]}
// Output: one JSON array, per case {"name", "status", "rendered" | "error"}:
//   status 400: the method's request validator refused the body (before the template ran);
//   status 500: the template failed to render ("Unable to transform request");
//   status 200: "rendered" is the integration request body API Gateway would send.
//
// What is modelled, and from where:
// - $input.body, $input.params() (path, querystring, header maps), $input.params(name) (path, then
//   query string, then header; null when absent), $input.json/$input.path for "$" and dotted
//   paths; $util.parseJson, urlEncode, urlDecode, escapeJavaScript, base64Encode/Decode; $context
//   as given. Per the API Gateway developer guide, "Variables for data transformations".
// - Header names keep the case the client sent and are looked up case-sensitively, the stricter
//   of the behaviours reported for REST APIs; templates must not depend on either.
// - Body validation against a model of only {"type": "object"}: an empty body validates as {}
//   (LocalStack's AWS-parity fix, localstack#7916); anything else must parse as one JSON value,
//   with nothing after it. Any other model keyword is refused here, so a richer model cannot
//   pass unmodelled.
// - Velocity's defaults (not strict): an unknown reference or a method that does not exist
//   renders as its literal text or as null in a condition, as API Gateway does.

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

public class ApiGatewayMapping {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        VelocityEngine engine = new VelocityEngine();
        engine.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        engine.init();
        JsonNode input = JSON.readTree(System.in);
        List<Map<String, Object>> results = new ArrayList<>();
        for (JsonNode c : input.get("cases")) {
            results.add(run(engine, c));
        }
        System.out.println(JSON.writeValueAsString(results));
    }

    static Map<String, Object> run(VelocityEngine engine, JsonNode c) throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("name", c.get("name").asText());
        String body = c.get("body").asText();
        JsonNode model = c.get("model");
        if (model != null && !model.isNull()) {
            String refusal = validate(model.asText(), body);
            if (refusal != null) {
                result.put("status", 400);
                result.put("error", refusal);
                return result;
            }
        }
        VelocityContext context = new VelocityContext();
        context.put("input", new Input(body, strings(c.get("path")), strings(c.get("query")), strings(c.get("headers"))));
        context.put("util", new Util());
        context.put("context", JSON.convertValue(c.get("context"), Map.class));
        StringWriter out = new StringWriter();
        try {
            engine.evaluate(context, out, c.get("name").asText(), c.get("template").asText());
        } catch (Exception e) {
            result.put("status", 500);
            result.put("error", "Execution failed due to configuration error: Unable to transform request: " + e);
            return result;
        }
        result.put("status", 200);
        result.put("rendered", out.toString());
        return result;
    }

    /** The request validator's body check, for the one model shape modelled here. */
    static String validate(String modelText, String body) throws Exception {
        JsonNode model = JSON.readTree(modelText);
        Iterator<String> keys = model.fieldNames();
        while (keys.hasNext()) {
            String key = keys.next();
            if (!List.of("$schema", "title", "description", "type").contains(key)) {
                throw new IllegalArgumentException("model keyword '" + key + "' is not modelled by this harness");
            }
        }
        if (!"object".equals(model.path("type").asText())) {
            throw new IllegalArgumentException("only a model of type object is modelled by this harness");
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(body.isEmpty() ? "{}" : body);
        } catch (Exception e) {
            return "Invalid request body";
        }
        return parsed != null && parsed.isObject() ? null : "Invalid request body";
    }

    static Map<String, String> strings(JsonNode node) {
        Map<String, String> map = new LinkedHashMap<>();
        if (node != null) {
            node.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        }
        return map;
    }

    public static class Input {
        private final String body;
        private final Map<String, Object> params = new LinkedHashMap<>();

        Input(String body, Map<String, String> path, Map<String, String> query, Map<String, String> headers) {
            this.body = body;
            params.put("path", path);
            params.put("querystring", query);
            params.put("header", headers);
        }

        public String getBody() {
            return body;
        }

        public Map<String, Object> params() {
            return params;
        }

        @SuppressWarnings("unchecked")
        public String params(String name) {
            for (String kind : List.of("path", "querystring", "header")) {
                Map<String, String> values = (Map<String, String>) params.get(kind);
                if (values.containsKey(name)) {
                    return values.get(name);
                }
            }
            return null;
        }

        public Object path(String jsonPath) throws Exception {
            return JSON.convertValue(select(jsonPath), Object.class);
        }

        public String json(String jsonPath) throws Exception {
            return JSON.writeValueAsString(select(jsonPath));
        }

        private JsonNode select(String jsonPath) throws Exception {
            JsonNode node = JSON.readTree(body.isEmpty() ? "{}" : body);
            if (!jsonPath.equals("$") && !jsonPath.startsWith("$.")) {
                throw new IllegalArgumentException("JSONPath '" + jsonPath + "' is not modelled by this harness");
            }
            for (String part : jsonPath.equals("$") ? new String[0] : jsonPath.substring(2).split("\\.")) {
                node = node == null ? null : node.get(part);
            }
            return node;
        }
    }

    public static class Util {
        public Object parseJson(String text) throws Exception {
            return JSON.readValue(text, Object.class);
        }

        public String urlEncode(String text) {
            return URLEncoder.encode(text, StandardCharsets.UTF_8);
        }

        public String urlDecode(String text) {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        }

        public String base64Encode(String text) {
            return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
        }

        public String base64Decode(String text) {
            return new String(Base64.getDecoder().decode(text), StandardCharsets.UTF_8);
        }

        public String escapeJavaScript(String text) {
            StringBuilder out = new StringBuilder();
            for (char ch : text.toCharArray()) {
                switch (ch) {
                    case '"': out.append("\\\""); break;
                    case '\'': out.append("\\'"); break;
                    case '\\': out.append("\\\\"); break;
                    case '/': out.append("\\/"); break;
                    case '\n': out.append("\\n"); break;
                    case '\r': out.append("\\r"); break;
                    case '\t': out.append("\\t"); break;
                    case '\b': out.append("\\b"); break;
                    case '\f': out.append("\\f"); break;
                    default:
                        if (ch < 0x20 || ch > 0x7e) {
                            out.append(String.format("\\u%04X", (int) ch));
                        } else {
                            out.append(ch);
                        }
                }
            }
            return out.toString();
        }
    }
}
