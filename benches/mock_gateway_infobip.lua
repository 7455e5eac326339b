-- wrk script: one Infobip v3 send per request, with a delivery-report URL
-- pointing at the sink gateway of benches/mock_gateway_wrk.sh.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "App mock-infobip-key"
wrk.body = '{"messages":[{"sender":"PENGINGAT","destinations":[{"to":"6281234567890"}],'
  .. '"content":{"text":"BPJAMSOSTEK: Yth. SITI AMINAH, iuran JKK+JKM Rp16.800 bln Juli 2025 jatuh tempo 15/07/2025."},'
  .. '"webhooks":{"delivery":{"url":"http://127.0.0.1:18081/sink"},"callbackData":"participant=1"}}]}'
