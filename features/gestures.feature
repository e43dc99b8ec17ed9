Feature: Gestures
  The button classifies presses: noise under 40 ms, clicks grouped by a 400 ms window
  into single, double and triple, and a long press at 2000 ms while still held.
  Mashing the button (4 presses or more) raises the alert, never "I am safe".

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts
    And the phone is at 48.8566, 2.3522

  @hil
  Scenario: A single press sends the alert SMS
    When the wearer presses the button
    Then within 5 s 2 contacts receive an SMS containing "I need help."
    And no call is placed
    And the siren is off

  @hil
  Scenario: A double press calls the contacts
    When the wearer double-presses the button
    Then within 5 s the phone calls every contact
    And within 5 s 2 contacts receive an SMS containing "Join the conference: https://"

  @hil
  Scenario: A triple press with nobody alerted sends nothing
    When the wearer triple-presses the button
    And 1 minutes pass
    Then no SMS is sent
    And no alert is raised

  @hil
  Scenario: A long press sounds the siren
    When the wearer holds the button for 3 s
    Then within 1 s the siren is on
    And an audio recording is in progress
    And no SMS is sent

  Scenario Outline: Raw press durations
    When the wearer presses the button for <ms> ms
    And 30 seconds pass
    Then exactly <sms> SMS are sent
    And the siren is <siren>

    Examples:
      | ms   | sms | siren |
      | 10   | 0   | off   |
      | 39   | 0   | off   |
      | 40   | 2   | off   |
      | 1999 | 2   | off   |
      | 2000 | 0   | on    |

  Scenario: Separate raw presses are separate alerts
    When the wearer presses the button for 100 ms
    And the wearer presses the button for 100 ms
    Then within 5 s exactly 4 SMS are sent

  Scenario: A recorded double press (button trace) calls the contacts
    When the trace "traces/buttons_double_press.jsonl" is replayed
    Then within 5 s the phone calls every contact

  Scenario: Mashing the button in panic raises the alert, never "I am safe"
    When the trace "traces/buttons_panic_mash.jsonl" is replayed
    Then within 5 s 2 contacts receive an SMS containing "I need help."
    And 0 contacts receive an SMS containing "I am safe"

  Scenario: A recorded alert then "I am safe"
    When the trace "traces/buttons_single_then_safe.jsonl" is replayed
    Then within 5 s 2 contacts receive an SMS containing "I am safe"
    And exactly 4 SMS are sent
