"""The fake LLM server, checked against the real Anthropic and OpenAI SDK clients."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import anyio
import openai
import pytest

from tests.agent.fake_llm import FakeLLM, Reply

pytestmark = pytest.mark.anyio

TOOLS_REPLY = Reply(
    text="Let me check the weather.",
    tool_calls=[("call_1", "get_weather", {"city": "Paris", "days": 2}), ("call_2", "get_time", {})],
    input_tokens=12,
    output_tokens=7,
    cache_read_tokens=3,
    cache_write_tokens=4,
)
ANTHROPIC_TOOL = {"name": "get_weather", "description": "Weather.", "input_schema": {"type": "object"}}
OPENAI_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def tools_brain(api: str, body: dict[str, Any]) -> Reply:
    """Answer every request with the same text and two tool calls."""
    return TOOLS_REPLY


def anthropic_client(llm: FakeLLM) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=llm.url, api_key="test", max_retries=0)


def openai_client(llm: FakeLLM) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=llm.url + "/v1", api_key="test", max_retries=0)


async def ask_anthropic(client: anthropic.AsyncAnthropic) -> anthropic.types.Message:
    return await client.messages.create(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "Weather?"}], tools=[ANTHROPIC_TOOL]
    )


async def ask_openai(client: openai.AsyncOpenAI) -> openai.types.chat.ChatCompletion:
    return await client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "Weather?"}], tools=[OPENAI_TOOL]
    )


async def test_anthropic_tool_calls_and_usage() -> None:
    with anyio.fail_after(10):
        async with FakeLLM(tools_brain) as llm, anthropic_client(llm) as client:
            msg = await ask_anthropic(client)
    assert msg.model == "claude-test"
    assert msg.stop_reason == "tool_use"
    text, weather, clock = msg.content
    assert text.type == "text" and text.text == "Let me check the weather."
    assert weather.type == "tool_use" and clock.type == "tool_use"
    assert (weather.id, weather.name, weather.input) == ("call_1", "get_weather", {"city": "Paris", "days": 2})
    assert (clock.id, clock.name, clock.input) == ("call_2", "get_time", {})
    assert msg.usage.input_tokens == 12
    assert msg.usage.output_tokens == 7
    assert msg.usage.cache_read_input_tokens == 3
    assert msg.usage.cache_creation_input_tokens == 4
    [(api, body)] = llm.requests
    assert api == "anthropic"
    assert body["model"] == "claude-test"
    assert body["messages"] == [{"role": "user", "content": "Weather?"}]
    assert body["tools"] == [ANTHROPIC_TOOL]


async def test_anthropic_stream_gives_the_same_message() -> None:
    with anyio.fail_after(10):
        async with FakeLLM(tools_brain) as llm, anthropic_client(llm) as client:
            plain = await ask_anthropic(client)
            async with client.messages.stream(
                model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "Weather?"}]
            ) as stream:
                texts = [text async for text in stream.text_stream]
                streamed = await stream.get_final_message()
    assert "".join(texts) == "Let me check the weather."
    assert len(texts) > 1
    assert streamed.model_dump(exclude={"id"}) == plain.model_dump(exclude={"id"})
    assert llm.requests[1][1]["stream"] is True


async def test_anthropic_stream_of_text_only() -> None:
    with anyio.fail_after(10):
        async with FakeLLM(lambda api, body: Reply(text="Hi")) as llm, anthropic_client(llm) as client:
            events = await client.messages.create(
                model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            types = [event.type async for event in events]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    assert types.count("content_block_delta") == 2


async def test_openai_tool_calls_and_usage() -> None:
    with anyio.fail_after(10):
        async with FakeLLM(tools_brain) as llm, openai_client(llm) as client:
            completion = await ask_openai(client)
    assert completion.model == "gpt-test"
    [choice] = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check the weather."
    calls = choice.message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_1", "get_weather", {"city": "Paris", "days": 2}),
        ("call_2", "get_time", {}),
    ]
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (19, 7, 26)
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 3
    [(api, body)] = llm.requests
    assert api == "openai"
    assert body["model"] == "gpt-test"
    assert body["tools"] == [OPENAI_TOOL]


async def test_openai_text_only() -> None:
    with anyio.fail_after(10):
        async with FakeLLM(lambda api, body: Reply(text="Hi")) as llm, openai_client(llm) as client:
            completion = await ask_openai(client)
    [choice] = completion.choices
    assert (choice.finish_reason, choice.message.content, choice.message.tool_calls) == ("stop", "Hi", None)


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (529, anthropic.InternalServerError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
    ],
)
async def test_anthropic_failure_then_success(status: int, error_class: type[Exception], error_type: str) -> None:
    with anyio.fail_after(10):
        async with FakeLLM(tools_brain, failures=[status]) as llm, anthropic_client(llm) as client:
            with pytest.raises(error_class) as caught:
                await ask_anthropic(client)
            msg = await ask_anthropic(client)
    error = caught.value
    assert isinstance(error, anthropic.APIStatusError)
    assert error.status_code == status
    assert error.body == {"type": "error", "error": {"type": error_type, "message": f"Injected failure {status}."}}
    assert (error.response.headers.get("retry-after") == "0") == (status == 429)
    assert msg.stop_reason == "tool_use"
    assert [api for api, _ in llm.requests] == ["anthropic", "anthropic"]


async def test_openai_failures_then_success() -> None:
    with anyio.fail_after(10):
        async with FakeLLM(tools_brain, failures=[429, 500]) as llm, openai_client(llm) as client:
            with pytest.raises(openai.RateLimitError) as rate_limited:
                await ask_openai(client)
            with pytest.raises(openai.InternalServerError):
                await ask_openai(client)
            completion = await ask_openai(client)
    assert rate_limited.value.code == "rate_limit_exceeded"
    assert rate_limited.value.response.headers["retry-after"] == "0"
    assert completion.choices[0].finish_reason == "tool_calls"
    assert len(llm.requests) == 3
